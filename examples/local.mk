# examples/: see the files listed below.
EXTRA_DIST += examples/sandbox-policy-quickstart/policy.yaml \
	examples/sandbox-policy-quickstart/demo.sh \
	examples/sandbox-policy-quickstart/README.md
