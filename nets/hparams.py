"""A set of named, typed hyper-parameters, with the methods of research/slim's configs.

research/slim's NASNet and PNASNet configs are TensorFlow 1's `contrib.training.HParams`, gone from
TensorFlow 2; its code and its users' call `config.set_hparam(name, value)`, `config.values()`,
`add_hparam`, `override_from_dict`, `get` and read fields as attributes. `HParams` here answers them
with the same rules:
- each hyper-parameter has the type of its first value (of its first element for a list);
- `set_hparam` of an unknown name raises KeyError; of a value of another type, ValueError, except that
  an integer becomes a float where the type is float (a bool never passes for a number, nor a number
  for a bool, nor anything for a string); a list is refused for a single value and the reverse;
- `add_hparam` refuses a name already set (or one of the methods' names) with ValueError;
- plain attribute assignment (`config.num_cells = 6`) sets a value unchecked, as HParams did.
"""
import numbers


def _checked(name, kind, value):
    """`value` as hyper-parameter `name` of type `kind` takes it, or a ValueError (see the module docstring)."""
    if type(value) is kind or kind is type(None):
        return value
    text = (str, bytes)
    refused = ((issubclass(kind, text) and not isinstance(value, text))
               or issubclass(kind, bool) != isinstance(value, bool)
               or (issubclass(kind, numbers.Integral) and not isinstance(value, numbers.Integral))
               or (issubclass(kind, numbers.Number) and not isinstance(value, numbers.Number)))
    if refused:
        raise ValueError("hyper-parameter %r is of type %s: cannot take %r" % (name, kind.__name__, value))
    return kind(value)


class HParams:
    """Hyper-parameters as attributes: `HParams(num_cells=18, data_format='NHWC').num_cells`."""

    def __init__(self, **values):
        self._types = {}  # name -> (type of the value or of its elements, whether it is a list)
        for name, value in values.items():
            self.add_hparam(name, value)

    def add_hparam(self, name, value):
        """Adds hyper-parameter `name`; ValueError when the name is taken or `value` an empty list."""
        if getattr(self, name, None) is not None:
            raise ValueError("hyper-parameter name %r is taken" % name)
        if isinstance(value, (list, tuple)):
            if not value:
                raise ValueError("hyper-parameter %r: a list needs at least one value to give its type" % name)
            self._types[name] = (type(value[0]), True)
        else:
            self._types[name] = (type(value), False)
        setattr(self, name, value)

    def set_hparam(self, name, value):
        """Sets existing hyper-parameter `name` to `value`, converted to its type (see the module docstring)."""
        kind, is_list = self._types[name]
        if isinstance(value, list) != is_list:
            raise ValueError("hyper-parameter %r takes %s, not %r" % (name, "a list" if is_list else "one value",
                                                                      value))
        if is_list:
            setattr(self, name, [_checked(name, kind, item) for item in value])
        else:
            setattr(self, name, _checked(name, kind, value))

    def del_hparam(self, name):
        """Removes hyper-parameter `name`; nothing happens when there is none."""
        if name in self._types:
            delattr(self, name)
            del self._types[name]

    def override_from_dict(self, values_dict):
        """`set_hparam` for each item of `values_dict`; returns self."""
        for name, value in values_dict.items():
            self.set_hparam(name, value)
        return self

    def get(self, name, default=None):
        """The value of `name`, or `default` when there is none; ValueError when `default` could not be one."""
        if name not in self._types:
            return default
        if default is not None:
            kind, is_list = self._types[name]
            if isinstance(default, list) != is_list:
                raise ValueError("hyper-parameter %r cannot have the default %r" % (name, default))
            for item in default if is_list else [default]:
                _checked(name, kind, item)
        return getattr(self, name)

    def values(self):
        """{name: value} of every hyper-parameter."""
        return {name: getattr(self, name) for name in self._types}

    def __contains__(self, name):
        return name in self._types

    def __repr__(self):
        return "%s(%s)" % (type(self).__name__, ", ".join("%s=%r" % item for item in self.values().items()))
