"""Small, working examples of the hosting styles, used by the README, ``ctlshell serve``
and the tests: an mKTL-style daemon (``oven``), a device with push and pull queues
(``motor``) and a caproto group hosted unchanged (``group``)."""
