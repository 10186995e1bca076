#!/usr/bin/python3
"""A stand-in for the kubelet's side of the device plugin API, with the
real gRPC library (python3-grpcio): what sriovd-kubelet-plugin talks to in
the tests.

  fake-kubelet.py serve --dir D --pod-resources SOCK --pods-dir P --state S
      serves Registration on D/kubelet.sock (after removing every other
      socket in D, as the kubelet does when it starts) and PodResources on
      SOCK; on each registration it opens the plugin's ListAndWatch and
      keeps the latest device list of each resource in S (JSON).
  fake-kubelet.py allocate --state S --resource R --pod NAME [--size N] [--must ID]...
      as the kubelet admits a pod: the healthy devices no pod has,
      GetPreferredAllocation, Allocate; the pod is recorded (it then shows
      in PodResources) and its directory made in the pods directory. Prints
      the preferred IDs and the response as JSON.
  fake-kubelet.py delete-pod --state S --pod NAME
      the pod is gone: out of PodResources, its directory removed.
  fake-kubelet.py call --state S --resource R METHOD
      one other call (GetDevicePluginOptions, PreStartContainer), printed.

The message classes are made by protoc from k8s/*.proto into the directory
named by $FAKE_KUBELET_PY (deviceplugin_pb2, podresources_pb2).
"""
import argparse
import contextlib
import fcntl
import json
import os
import shutil
import signal
import sys
import threading
import time
import uuid
from concurrent import futures

sys.path.insert(0, os.environ.get("FAKE_KUBELET_PY", "."))
import grpc  # noqa: E402
import deviceplugin_pb2 as dp  # noqa: E402
import podresources_pb2 as pr  # noqa: E402

_threads = threading.Lock()


@contextlib.contextmanager
def locked(path):
    """The state file, for this process's threads and every other process."""
    with _threads, open(path + ".lock", "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        yield


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except FileNotFoundError:
        return {"resources": {}, "pods": {}, "registrations": 0}


def save(path, state):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(state, f, indent=1, sort_keys=True)
    os.rename(tmp, path)


def update(path, fn):
    with locked(path):
        state = load(path)
        fn(state)
        save(path, state)


def log(msg):
    print("fake-kubelet: " + msg, flush=True)


# ---- serve ----

def watch(args, name, endpoint, generation):
    """ListAndWatch of one registration, until the stream ends."""
    chan = grpc.insecure_channel("unix:" + os.path.join(args.dir, endpoint))
    law = chan.unary_stream("/v1beta1.DevicePlugin/ListAndWatch",
                            request_serializer=dp.Empty.SerializeToString,
                            response_deserializer=dp.ListAndWatchResponse.FromString)
    try:
        for resp in law(dp.Empty()):
            devs = [{"id": d.ID, "health": d.health,
                     "numa": [n.ID for n in d.topology.nodes]} for d in resp.devices]

            def put(state):
                r = state["resources"].setdefault(name, {})
                if r.get("generation") != generation:
                    return
                r["devices"] = devs
                r["updates"] = r.get("updates", 0) + 1
            update(args.state, put)
            log("%s: %d devices, %d healthy" % (name, len(devs), sum(d["health"] == "Healthy" for d in devs)))
    except grpc.RpcError as e:
        log("%s: ListAndWatch ended: %s" % (name, e.code()))

    def ended(state):
        r = state["resources"].get(name, {})
        if r.get("generation") == generation:
            r["streaming"] = False
    update(args.state, ended)


class Registration:
    def __init__(self, args):
        self.args = args

    def register(self, req, ctx):
        if req.version != "v1beta1":
            ctx.abort(grpc.StatusCode.INVALID_ARGUMENT, "unsupported version " + req.version)
        generation = str(uuid.uuid4())

        def put(state):
            state["registrations"] = state.get("registrations", 0) + 1
            state["resources"][req.resource_name] = {
                "endpoint": req.endpoint, "generation": generation, "streaming": True,
                "preferred": req.options.get_preferred_allocation_available,
                "devices": [], "updates": 0}
        update(self.args.state, put)
        log("registered %s at %s" % (req.resource_name, req.endpoint))
        threading.Thread(target=watch, args=(self.args, req.resource_name, req.endpoint, generation),
                         daemon=True).start()
        return dp.Empty()


def pod_resources(state):
    resp = pr.ListPodResourcesResponse()
    for name, pod in sorted(state.get("pods", {}).items()):
        p = resp.pod_resources.add(name=name, namespace="default")
        c = p.containers.add(name="main")
        for res, ids in pod["devices"].items():
            c.devices.add(resource_name=res, device_ids=ids)
    return resp


class PodResources:
    def __init__(self, args):
        self.args = args

    def list(self, req, ctx):
        with locked(self.args.state):
            state = load(self.args.state)
        update(self.args.state, lambda s: s.__setitem__("lists", s.get("lists", 0) + 1))
        return pod_resources(state)


def serve(args):
    # as the kubelet starts: the plugins' sockets of before are gone
    for f in os.listdir(args.dir):
        p = os.path.join(args.dir, f)
        if f != "kubelet_internal_checkpoint" and not os.path.isdir(p):
            os.unlink(p)
    if os.path.exists(args.pod_resources):
        os.unlink(args.pod_resources)
    reg, podres = Registration(args), PodResources(args)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    server.add_generic_rpc_handlers((
        grpc.method_handlers_generic_handler("v1beta1.Registration", {
            "Register": grpc.unary_unary_rpc_method_handler(
                reg.register, request_deserializer=dp.RegisterRequest.FromString,
                response_serializer=dp.Empty.SerializeToString)}),
        grpc.method_handlers_generic_handler("v1.PodResourcesLister", {
            "List": grpc.unary_unary_rpc_method_handler(
                podres.list, request_deserializer=pr.ListPodResourcesRequest.FromString,
                response_serializer=pr.ListPodResourcesResponse.SerializeToString)}),
    ))
    # the PodResources socket first: once kubelet.sock exists, a plugin may ask
    server.add_insecure_port("unix:" + args.pod_resources)
    tmp = os.path.join(args.dir, ".kubelet.sock.new")
    server.add_insecure_port("unix:" + tmp)
    server.start()
    signal.signal(signal.SIGTERM, lambda *_: server.stop(0))
    os.rename(tmp, os.path.join(args.dir, "kubelet.sock"))
    log("serving on %s and %s" % (os.path.join(args.dir, "kubelet.sock"), args.pod_resources))
    server.wait_for_termination()


# ---- the kubelet's calls ----

def stub(state, resource, method, req_cls, resp_cls):
    r = state["resources"].get(resource)
    if not r:
        sys.exit("no resource %s registered" % resource)
    chan = grpc.insecure_channel("unix:" + os.path.join(state["dir"], r["endpoint"]))
    return chan.unary_unary("/v1beta1.DevicePlugin/" + method, request_serializer=req_cls.SerializeToString,
                            response_deserializer=resp_cls.FromString)


def allocate(args):
    with locked(args.state):
        state = load(args.state)
    r = state["resources"].get(args.resource) or sys.exit("no resource %s" % args.resource)
    taken = {i for p in state["pods"].values() for i in p["devices"].get(args.resource, [])}
    available = [d["id"] for d in r["devices"] if d["health"] == "Healthy" and d["id"] not in taken]
    if args.ids:
        allocate_ids(args, state, args.ids.split(","))
        return
    if len(available) < args.size:
        sys.exit("only %d healthy free devices" % len(available))
    pref = stub(state, args.resource, "GetPreferredAllocation", dp.PreferredAllocationRequest,
                dp.PreferredAllocationResponse)(dp.PreferredAllocationRequest(container_requests=[
                    dp.ContainerPreferredAllocationRequest(available_deviceIDs=available,
                                                           must_include_deviceIDs=args.must,
                                                           allocation_size=args.size)]), timeout=30)
    chosen = list(pref.container_responses[0].deviceIDs)
    if len(chosen) != args.size:
        sys.exit("GetPreferredAllocation chose %d devices, not %d" % (len(chosen), args.size))
    allocate_ids(args, state, chosen)


def allocate_ids(args, state, chosen):
    try:
        resp = stub(state, args.resource, "Allocate", dp.AllocateRequest, dp.AllocateResponse)(
            dp.AllocateRequest(container_requests=[dp.ContainerAllocateRequest(devices_ids=chosen)]), timeout=60)
    except grpc.RpcError as e:
        print(json.dumps({"error": e.code().name, "details": e.details(), "chosen": chosen}))
        sys.exit(3)
    c = resp.container_responses[0]
    out = {"chosen": chosen, "envs": dict(c.envs),
           "devices": [{"container_path": d.container_path, "host_path": d.host_path,
                        "permissions": d.permissions} for d in c.devices],
           "cdi_devices": [d.name for d in c.cdi_devices]}
    uid = str(uuid.uuid4())

    def put(s):
        s["pods"][args.pod] = {"uid": uid, "devices": {args.resource: chosen}}
    update(args.state, put)
    os.makedirs(os.path.join(state["pods_dir"], uid), exist_ok=True)
    print(json.dumps(out))


def delete_pod(args):
    gone = {}

    def drop(s):
        gone.update(s["pods"].pop(args.pod, {}))
    update(args.state, drop)
    if not gone:
        sys.exit("no pod " + args.pod)
    with locked(args.state):
        state = load(args.state)
    shutil.rmtree(os.path.join(state["pods_dir"], gone["uid"]), ignore_errors=True)


def call(args):
    with locked(args.state):
        state = load(args.state)
    if args.method == "GetDevicePluginOptions":
        resp = stub(state, args.resource, args.method, dp.Empty, dp.DevicePluginOptions)(dp.Empty(), timeout=10)
        print(json.dumps({"pre_start_required": resp.pre_start_required,
                          "get_preferred_allocation_available": resp.get_preferred_allocation_available}))
    elif args.method == "PreStartContainer":
        stub(state, args.resource, args.method, dp.PreStartContainerRequest, dp.PreStartContainerResponse)(
            dp.PreStartContainerRequest(devices_ids=args.ids), timeout=10)
        print("{}")
    else:
        sys.exit("unknown method " + args.method)


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--dir", required=True)
    s.add_argument("--pod-resources", required=True)
    s.add_argument("--pods-dir", required=True)
    s.add_argument("--state", required=True)
    a = sub.add_parser("allocate")
    a.add_argument("--state", required=True)
    a.add_argument("--resource", required=True)
    a.add_argument("--pod", required=True)
    a.add_argument("--size", type=int, default=1)
    a.add_argument("--must", action="append", default=[])
    a.add_argument("--ids", help="these devices, without GetPreferredAllocation")
    d = sub.add_parser("delete-pod")
    d.add_argument("--state", required=True)
    d.add_argument("--pod", required=True)
    c = sub.add_parser("call")
    c.add_argument("--state", required=True)
    c.add_argument("--resource", required=True)
    c.add_argument("method")
    c.add_argument("ids", nargs="*")
    args = ap.parse_args()
    if args.cmd == "serve":
        def init(st):
            st["dir"], st["pods_dir"] = args.dir, args.pods_dir
            st.setdefault("pods", {})
            st["resources"] = {}
            st["registrations"] = 0
        update(args.state, init)
        serve(args)
    else:
        {"allocate": allocate, "delete-pod": delete_pod, "call": call}[args.cmd](args)


if __name__ == "__main__":
    main()
