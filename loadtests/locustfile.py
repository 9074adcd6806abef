"""nineslab load: open-loop requests to the lab's API by name, through its DNS, like real clients.
Every request lands in a sample file (see recorder.py beside this file). Run from the client netns:
  ip netns exec nines-client .venv/bin/locust -f loadtests/locustfile.py --host http://api.nines.lab"""

import recorder
from locust import FastHttpUser, constant, task


class ApiClient(FastHttpUser):
    wait_time = constant(0)  # the task below never returns: it runs the user's whole schedule
    concurrency = recorder.IN_FLIGHT  # connections in flight: never the limit of an open loop
    max_retries = 0  # one attempt per intended request; the deadline holds only without retries
    connection_timeout = network_timeout = recorder.DEADLINE_S

    @task
    def api(self) -> None:
        recorder.open_loop(self, "/api/")
