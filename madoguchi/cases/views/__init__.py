"""Case screens, one module per family: thin views that parse, call a service or selector,
and render. `cases/urls.py` names each view by its module."""
