"""The differential suite: every scenario on os-vif 5.3.0 and on this tree.

See ``doc/source/contributor/testing.rst`` ("The differential suite").
"""
