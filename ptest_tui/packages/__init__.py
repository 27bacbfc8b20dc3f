"""Package management in every environment: uv and pip installers behind one interface.

Modules: ``requirements`` (parse and validate), ``index`` (index configuration and URL
redaction), ``installers`` (the two backends), ``progress`` (tool output to events),
``inventory`` (what is installed), ``check`` (consistency), ``resolve`` (conflicts before
anything changes), ``lock`` (exact versions with hashes), ``cache`` (the shared cache),
``service`` (the operations the Session exposes).
"""
