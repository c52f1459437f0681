"""``python -m dpgkg.publish.querypool``: a query process (worker.py), or with
``--fork-server`` the process that forks them (zygote.py)."""

import sys

if "--fork-server" in sys.argv:
    from dpgkg.publish.querypool.zygote import fork_server_main

    fork_server_main(sys.argv[1:])
else:
    from dpgkg.publish.querypool.worker import worker_main

    worker_main(sys.argv[1:])
