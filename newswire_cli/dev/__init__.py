"""Development tooling, never imported by the runtime services.

- ``embedded``: the embedded PostgreSQL and Redis that ``newswire run`` starts when no server is set.
- ``chaos``: ``newswire chaos`` (push thousands of articles while killing and restarting parts).
- ``settings``: the settings of tests, evaluations and benchmarks (not part of the runtime ``Settings``).
"""
