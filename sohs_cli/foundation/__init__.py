"""Foundation: what every other package uses, and nothing domain-specific.

Owns: the error hierarchy and exit codes (:mod:`.errors`), the message catalogs' API (:mod:`.i18n`),
settings and where their file is (:mod:`.config`, :mod:`.settings_files`), where secrets come from
(:mod:`.credentials`), file I/O and names made from content (:mod:`.fileio`, :mod:`.filenames`), the
one hardened XML parser (:mod:`.xmlsafe`), the process pool and CPU count (:mod:`.procpool`,
:mod:`.cpus`), command-line paths (:mod:`.inputs`), the data folder's lock (:mod:`.datalock`),
SQLite transactions (:mod:`.sqlitedb`).

May import: the standard library, lxml, filelock, and ``sohs_cli.foundation`` itself. Nothing else of sohs.
"""
