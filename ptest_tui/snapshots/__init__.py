"""Environment snapshots, restore, export and import, and migration between levels.

Modules: ``blobs`` (the content-addressed store), ``manifest`` and ``patterns`` (what a
snapshot records), ``records`` (store rows and the rebuild journal), ``files_host`` and
``files_docker`` (the working folder), ``capture`` (taking one), ``rebuild`` and ``swap``
(building, verifying and switching in a target), ``restore``, ``migrate``, ``diff``,
``archive`` (export/import), ``service`` (the facade). See docs/snapshots.md.
"""
