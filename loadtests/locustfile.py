"""nineslab load: paced users call the lab's API by name, through its DNS, like real clients.
Every request lands in a sample file (see recorder.py beside this file). Run from the client netns:
  ip netns exec nines-client .venv/bin/locust -f loadtests/locustfile.py --host http://api.nines.lab"""

import recorder
from locust import HttpUser, constant_throughput, task


class ApiClient(HttpUser):
    wait_time = constant_throughput(recorder.RATE_PER_USER)

    @task
    def api(self) -> None:
        recorder.get(self.client, "/api/")
