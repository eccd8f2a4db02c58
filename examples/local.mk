# examples/: see the files listed below.
EXTRA_DIST += examples/sandbox-policy-quickstart/policy.yaml
