"""Open vSwitch's database (OVSDB), through ovsdbapp's native IDL client.

* :mod:`.connection` keeps one IDL connection per connection string in this
  process, shared by every caller and reconnecting by itself when
  ovsdb-server restarts;
* :mod:`.model` describes what a plugin wants in the database (bridges,
  ports with their interface) as plain values;
* :mod:`.client` compares that with the IDL's cache and writes only the
  differences, all in one transaction, for one port or for many;
* :mod:`.operations` are the OVSDB host operations plans are made of
  (check, ownership, commands), run in the caller's process.
"""
