"""Entry point used by the Go bridge: one function, strings in and out.

``dispatch(name, args_json)`` looks ``name`` up in ``wmss_engine.api.__all__``,
calls it with the decoded JSON object as keyword arguments, and returns the
result encoded as JSON. Exceptions propagate; the bridge turns them into Go
errors carrying the type, message and traceback.
"""
import importlib
import json

_modules = {}


def _function(module_name, name):
    mod = _modules.get(module_name)
    if mod is None:
        mod = importlib.import_module(module_name)
        _modules[module_name] = mod
    allowed = getattr(mod, "__all__", None)
    if allowed is None or name not in allowed:
        raise AttributeError("%s has no operation %r (not in __all__)" % (module_name, name))
    return getattr(mod, name)


def dispatch(module_name, name, args_json):
    """Call module_name.name(**json.loads(args_json)) and return the JSON result.

    module_name: str, a module whose ``__all__`` lists callable operations.
    name: str, the operation. args_json: bytes or str, UTF-8 JSON of an object (None or empty for none).
    Returns str, the JSON encoding of the result (``null`` for None).
    Raises TypeError when args_json is not an object; AttributeError when
    the operation is not exported; anything the operation raises.
    """
    args = json.loads(args_json) if args_json else {}
    if not isinstance(args, dict):
        raise TypeError("arguments must be a JSON object, got %s" % type(args).__name__)
    fn = _function(module_name, name)
    return json.dumps(fn(**args), allow_nan=False)
