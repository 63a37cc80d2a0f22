"""Applications: a SAM template or a serverless.yml → the desired state of an Ember stack, and its plan.

Start at `ember.apps.project` (find and load a project) and `ember.apps.plan` (compare it with a server).
"""
