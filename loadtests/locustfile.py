"""nineslab load: paced users call the lab's API by name, through its DNS, like real clients.
Every request lands in a sample file (see recorder.py beside this file). Run from the client netns:
  ip netns exec nines-client .venv/bin/locust -f loadtests/locustfile.py --host http://api.nines.lab"""

import recorder
from locust import FastHttpUser, task


class ApiClient(FastHttpUser):
    wait_time = recorder.poisson_pacing(recorder.RATE_PER_USER)  # paced: constant throughput on average
    connection_timeout = network_timeout = recorder.DEADLINE_S

    @task
    def api(self) -> None:
        recorder.get(self.client, "/api/")
