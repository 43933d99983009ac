"""Pure compute engine: numpy arrays in, numpy arrays out.

Nothing in this package performs I/O, touches the database or the web layer, or
keeps mutable module-level state; it can be imported and tested in isolation.
"""
