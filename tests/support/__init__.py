"""Helpers the tests share, imported explicitly (`from tests.support.gradients import central_difference`).

gradients: the central-difference oracle and gradient assertions; transform_cases: every op as a
hypothesis case; walkthrough_cases: small graphs; examples_smoke: runs an example with tiny settings.
"""
