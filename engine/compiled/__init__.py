"""The compiled app: an app definition worked out once (engine/compiled/app.py).

    from engine.compiled import compiled
    app = compiled(definition)      # App: types, tables, graph, formulas, live plans
"""
from engine.compiled.app import App, compile_app, compiled

__all__ = ["App", "compile_app", "compiled"]
