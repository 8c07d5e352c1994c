"""What the bench holds the simulator to: each target beside what it means.

A ratio target is simulator / baseline (pymodbus 3.16's bare server, or the simulator
with one inverter for the fleet); a row meets its target when the ratio is at most it.
"""

SCRAPE_RATIO = 1.10  # one SunGather level-2 scrape may cost at most 10% more than bare
P99_RATIO = 1.25  # with 16 clients reading at once, the p99 read latency at most 25% more
RSS_IDLE_MIB = 50.0  # resident memory of one idle simulator process
FLEET_MEAN_RATIO = 1.2  # a read from a fleet of 100 inverters at most 20% slower than of 1
START_S = 0.5  # from `serve` to the first answered read, bytecode cache filled
