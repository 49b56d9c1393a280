"""The app definition model: a YAML/JSON document read with the position of every
node (loader), turned into frozen forms and fields (model) and permission sets
(permissions), with the rules for the keys that become SQL identifiers (identifiers). Validation sits a layer above, in
engine/validation (`from engine.validation import load_definition`).
"""
