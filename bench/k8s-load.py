#!/usr/bin/python3
"""The kubelet's load on sriovd-kubelet-plugin (bench/k8s.sh): Allocate
latency, one pod at a time, and rounds of N pods admitted at once and then
deleted, until sriovd has given every VF back. Talks to the plugin with the
real gRPC library, as the fake kubelet of tests/k8s does, and records pods
in its state so that PodResources and the pods directory follow.

  k8s-load.py --state S --resource R --sequential N --concurrent N --rounds K
prints one JSON object."""
import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import uuid

sys.path.insert(0, os.environ["FAKE_KUBELET_PY"])
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "k8s"))
import grpc  # noqa: E402
import deviceplugin_pb2 as dp  # noqa: E402
fk = __import__("fake-kubelet")  # noqa: E402


def pct(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))]


def allocate_stub(state, resource):
    chan = grpc.insecure_channel("unix:" + os.path.join(state["dir"], state["resources"][resource]["endpoint"]))
    return chan.unary_unary("/v1beta1.DevicePlugin/Allocate", request_serializer=dp.AllocateRequest.SerializeToString,
                            response_deserializer=dp.AllocateResponse.FromString)


def add_pod(args, state, name, ids):
    uid = str(uuid.uuid4())
    fk.update(args.state, lambda s: s["pods"].__setitem__(name, {"uid": uid, "devices": {args.resource: ids}}))
    os.makedirs(os.path.join(state["pods_dir"], uid), exist_ok=True)


def delete_pods(args, state, names):
    gone = []

    def drop(s):
        for n in names:
            gone.append(s["pods"].pop(n))
    fk.update(args.state, drop)
    for p in gone:
        shutil.rmtree(os.path.join(state["pods_dir"], p["uid"]), ignore_errors=True)


def held():
    out = subprocess.run(["busctl", "--system", "--json=short", "call", "org.sriovd.Manager1", "/org/sriovd/Manager1",
                          "org.sriovd.Manager1", "ListAssignments", "s", "kubernetes"],
                         check=True, capture_output=True, text=True).stdout
    return len(json.loads(out)["data"][0])


def wait_released(timeout=120):
    t0 = time.monotonic()
    while held() > 0:
        if time.monotonic() - t0 > timeout:
            sys.exit("VFs still held after %d s" % timeout)
        time.sleep(0.02)


def free_ids(args):
    with fk.locked(args.state):
        state = fk.load(args.state)
    taken = {i for p in state["pods"].values() for i in p["devices"].get(args.resource, [])}
    return state, [d["id"] for d in state["resources"][args.resource]["devices"]
                   if d["health"] == "Healthy" and d["id"] not in taken]


def sequential(args):
    lat = []
    for i in range(args.sequential):
        state, ids = free_ids(args)
        alloc = allocate_stub(state, args.resource)
        t0 = time.monotonic()
        alloc(dp.AllocateRequest(container_requests=[dp.ContainerAllocateRequest(devices_ids=[ids[0]])]), timeout=60)
        lat.append((time.monotonic() - t0) * 1000)
        add_pod(args, state, "seq%d" % i, [ids[0]])
        delete_pods(args, state, ["seq%d" % i])
        wait_released()
    return lat


def concurrent_round(args, r):
    state, ids = free_ids(args)
    n = args.concurrent
    if len(ids) < n:
        sys.exit("only %d free VFs for %d pods" % (len(ids), n))
    alloc = allocate_stub(state, args.resource)
    lat, errors = [0.0] * n, []

    def one(i):
        t0 = time.monotonic()
        try:
            alloc(dp.AllocateRequest(container_requests=[dp.ContainerAllocateRequest(devices_ids=[ids[i]])]),
                  timeout=120)
        except grpc.RpcError as e:
            errors.append("%s: %s" % (e.code(), e.details()))
        lat[i] = (time.monotonic() - t0) * 1000
        add_pod(args, state, "r%dp%d" % (r, i), [ids[i]])
    t0 = time.monotonic()
    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    t_alloc = time.monotonic() - t0
    if errors:
        sys.exit("Allocate failed: %s" % errors[:3])
    delete_pods(args, state, ["r%dp%d" % (r, i) for i in range(n)])
    wait_released()
    return lat, t_alloc, time.monotonic() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--state", required=True)
    ap.add_argument("--resource", required=True)
    ap.add_argument("--sequential", type=int, default=30)
    ap.add_argument("--concurrent", type=int, default=64)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    seq = sequential(args)
    rounds = [concurrent_round(args, r) for r in range(args.rounds)]
    conc = [x for lat, _, _ in rounds for x in lat]
    print(json.dumps({
        "allocate_ms": {"n": len(seq), "p50": round(pct(seq, 50), 1), "p99": round(pct(seq, 99), 1),
                        "max": round(max(seq), 1)},
        "concurrent": {"pods": args.concurrent, "rounds": args.rounds,
                       "allocate_ms_p50": round(pct(conc, 50), 1), "allocate_ms_p99": round(pct(conc, 99), 1),
                       "allocate_phase_s": [round(a, 2) for _, a, _ in rounds],
                       "cycle_s": [round(c, 2) for _, _, c in rounds],
                       "pods_per_s": [round(args.concurrent / c, 1) for _, _, c in rounds]}}))


if __name__ == "__main__":
    main()
