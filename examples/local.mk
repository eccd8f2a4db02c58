# examples/: the quickstart walkthrough and the policy templates.
EXTRA_DIST += examples/sandbox-policy-quickstart/policy.yaml \
	examples/sandbox-policy-quickstart/demo.sh \
	examples/sandbox-policy-quickstart/README.md
# Installed for `openshell sandbox create --policy-template NAME`.
dist_templates_DATA += examples/templates/python-dev.yaml \
	examples/templates/node-dev.yaml examples/templates/agent-coding.yaml
