"""What harvesters read, built without HTTP: the DCAT-AP catalogue (``catalog``), the VoID
description (``void``), the full dumps and their manifest (``dumps``), the change feed
(``ldes``), the sitemap (``sitemap``) and the SPARQL Service Description
(``service_description``). Each takes the settings, the store and the host's landing page and
returns triples, quads, files or text; ``service.web.routes`` serves them. May import
``service.store``, ``service.rdf``, ``service.config`` and ``service.vocab``.
"""
