"""The flow-platform stack program: typed config, composition, offline render and checks."""

PROJECT = "flow-platform"
ENVIRONMENTS = ("dev", "tst", "uat", "prd")
