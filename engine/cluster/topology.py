"""Which cluster a training process belongs to, and its role in it: read from TF_CONFIG or from the TF1-style
flags, checked against research/slim's replica flags. No TensorFlow here (engine/cluster/replicas.py runs it).

Three ways to describe it, the first that applies wins:
1. `--ps_hosts h:p,... --worker_hosts h:p,... --job_name ps|worker --task N` (the TF1 examples);
2. `TF_CONFIG={"cluster": {"ps": [...], "worker": [...]}, "task": {"type": "worker", "index": N}}`
   (TensorFlow's standard environment variable);
3. `--master grpc://host:port` alone: the session runs on that existing server, which knows the cluster,
   and `--num_ps_tasks`, `--worker_replicas` and `--task` say what research/slim's flags said.
Without any of them, training runs in this one process (`resolve` returns None).

Worker 0 is the chief. Every process of a cluster runs the same train_image_classifier.py command.
"""
import dataclasses
import json
import os

from core.errors import UserError
from core.progress import warn

JOBS = ("ps", "worker")
TF_CONFIG_EXAMPLE = ('{"cluster": {"ps": ["host0:2222"], "worker": ["host1:2222", "host2:2222"]}, '
                     '"task": {"type": "worker", "index": 0}}')


@dataclasses.dataclass
class Cluster:
    ps: list  # host:port of each parameter server (in --master mode: "" for each, their addresses unknown)
    workers: list  # host:port of each worker, the chief first (in --master mode: "" for each)
    job_name: str  # "ps" or "worker"
    task_index: int
    sync: bool = False
    replicas_to_aggregate: int = 1
    master: str = ""  # an existing server's target; "" for this process's own server
    timeout_secs: float = 300.0
    source: str = "TF_CONFIG"  # where the cluster came from, for messages

    @property
    def num_ps(self):
        return len(self.ps)

    @property
    def num_workers(self):
        return len(self.workers)

    @property
    def is_chief(self):
        return self.job_name == "worker" and self.task_index == 0

    @property
    def address(self):
        """host:port of this process's task."""
        return (self.ps if self.job_name == "ps" else self.workers)[self.task_index]

    def spec(self):
        """{"ps": [...], "worker": [...]} for tf.train.ClusterSpec (None in --master mode)."""
        if self.master:
            return None
        return {"ps": list(self.ps), "worker": list(self.workers)} if self.ps else {"worker": list(self.workers)}

    def describe(self):
        """E.g. "worker 0 (chief, sync)"."""
        if self.job_name == "ps":
            return "ps %d" % self.task_index
        return "worker %d (%s%s)" % (self.task_index, "chief, " if self.is_chief else "",
                                     "sync" if self.sync else "async")


def parse_hosts(text, flag):
    """["host:port", ...] from a comma-separated flag value, each checked."""
    hosts = [host.strip() for host in (text or "").split(",") if host.strip()]
    for host in hosts:
        check_address(host, flag)
    return hosts


def check_address(address, where):
    host, _, port = str(address).rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise UserError("%s: %r is not host:port (e.g. 10.0.0.1:2222 or localhost:2222)" % (where, address))


def parse_tf_config(text):
    """(cluster {job: [host:port]}, task type, task index) of a TF_CONFIG value; UserError when it is not
    what TensorFlow documents."""
    try:
        config = json.loads(text)
    except ValueError as error:
        raise UserError("TF_CONFIG is not valid JSON (%s): %.200r. It should look like %s"
                        % (error, text, TF_CONFIG_EXAMPLE))
    if not isinstance(config, dict) or not isinstance(config.get("cluster"), dict):
        raise UserError("TF_CONFIG has no \"cluster\" object: %.200r. It should look like %s"
                        % (text, TF_CONFIG_EXAMPLE))
    cluster = config["cluster"]
    for job in cluster:
        if job == "chief":
            raise UserError("TF_CONFIG's cluster has a \"chief\" job: here worker 0 is the chief; list its "
                            "address first under \"worker\" instead")
        if job == "evaluator":
            raise UserError("TF_CONFIG's cluster has an \"evaluator\" job: evaluate with eval_image_classifier.py "
                            "--checkpoint_path <the chief's --train_dir> --eval_interval_secs 60 instead")
        if job not in JOBS:
            raise UserError("TF_CONFIG's cluster has an unknown job %r; the jobs are \"ps\" and \"worker\"" % job)
        if not isinstance(cluster[job], list) or not all(isinstance(host, str) for host in cluster[job]):
            raise UserError("TF_CONFIG's cluster job %r must be a list of \"host:port\" strings, got %.200r"
                            % (job, cluster[job]))
        for host in cluster[job]:
            check_address(host, "TF_CONFIG's cluster job %r" % job)
    task = config.get("task")
    if not isinstance(task, dict) or "type" not in task:
        raise UserError("TF_CONFIG has no \"task\": {\"type\": \"worker\" or \"ps\", \"index\": N}: %.200r" % text)
    index = task.get("index", 0)
    if not isinstance(index, int) or isinstance(index, bool):
        raise UserError("TF_CONFIG's task index must be an integer, got %r" % (index,))
    return {job: list(hosts) for job, hosts in cluster.items()}, task["type"], index


def resolve(options, environ=None):
    """The Cluster of this process from `options` (engine.config.options.ClusterOptions) and `environ`
    (os.environ by default), or None when training runs in one process. Raises UserError on any
    misconfiguration."""
    environ = os.environ if environ is None else environ
    tf_config = (environ.get("TF_CONFIG") or "").strip()
    if options.cluster_timeout_secs <= 0:
        raise UserError("--cluster_timeout_secs must be positive, got %g" % options.cluster_timeout_secs)
    if options.ps_hosts is not None or options.worker_hosts is not None or options.job_name is not None:
        if not options.worker_hosts or not options.job_name:
            raise UserError("a cluster given by flags needs --worker_hosts (and --ps_hosts) with --job_name ps|worker "
                            "and --task N; or set TF_CONFIG instead")
        if tf_config:
            warn("--worker_hosts/--ps_hosts describe the cluster: TF_CONFIG is ignored")
        jobs = {"ps": parse_hosts(options.ps_hosts, "--ps_hosts"),
                "worker": parse_hosts(options.worker_hosts, "--worker_hosts")}
        job_name, index, source = options.job_name, options.task or 0, "--ps_hosts/--worker_hosts"
    elif tf_config and tf_config != "{}":
        jobs, job_name, index = parse_tf_config(tf_config)
        if options.task is not None and options.task != index:
            raise UserError("--task %d contradicts TF_CONFIG's task index %d: drop --task" % (options.task, index))
        jobs.setdefault("ps", [])
        jobs.setdefault("worker", [])
        source = "TF_CONFIG"
    elif options.master:
        return _master_cluster(options)
    else:
        _check_single_process(options)
        return None
    if job_name not in JOBS:
        raise UserError("%s: task type %r is not a job of this cluster; use \"ps\" or \"worker\"" % (source, job_name))
    if not jobs["worker"]:
        raise UserError("%s lists no worker: give at least one worker address (the first is the chief)" % source)
    if not jobs["ps"]:
        raise UserError("%s lists no parameter server: give at least one ps address (it holds the variables)" % source)
    if not 0 <= index < len(jobs[job_name]):
        raise UserError("task index %d is out of range: the cluster (%s) has %d %s task(s), numbered 0 to %d"
                        % (index, source, len(jobs[job_name]), job_name, len(jobs[job_name]) - 1))
    duplicates = sorted({host for host in jobs["ps"] + jobs["worker"] if (jobs["ps"] + jobs["worker"]).count(host) > 1})
    if duplicates:
        raise UserError("%s lists %s for several tasks: each task needs its own host:port" % (source, duplicates[0]))
    for flag, value, count in (("--num_ps_tasks", options.num_ps_tasks, len(jobs["ps"])),
                               ("--worker_replicas", options.worker_replicas, len(jobs["worker"]))):
        if value is not None and value != count:
            raise UserError("%s %d contradicts the cluster (%s), which has %d; drop the flag or fix the cluster"
                            % (flag, value, source, count))
    cluster = Cluster(ps=jobs["ps"], workers=jobs["worker"], job_name=job_name, task_index=index,
                      master=options.master or "", timeout_secs=float(options.cluster_timeout_secs), source=source)
    return _with_sync(cluster, options)


def _master_cluster(options):
    """--master alone: research/slim's way, the cluster known only to the server at --master."""
    master = options.master if "://" in options.master else "grpc://" + options.master
    if not master.startswith("grpc://"):
        raise UserError("--master %r: only grpc:// targets are supported, e.g. grpc://host:2222" % options.master)
    check_address(master[len("grpc://"):], "--master")
    workers = options.worker_replicas if options.worker_replicas is not None else 1
    index = options.task or 0
    if workers < 1 or not 0 <= index < workers:
        raise UserError("--task %d is out of range for --worker_replicas %d (tasks 0 to %d)"
                        % (index, workers, workers - 1))
    num_ps = options.num_ps_tasks or 0
    if num_ps < 0:
        raise UserError("--num_ps_tasks must be 0 or more, got %d" % num_ps)
    cluster = Cluster(ps=[""] * num_ps, workers=[""] * workers, job_name="worker", task_index=index, master=master,
                      timeout_secs=float(options.cluster_timeout_secs), source="--master")
    return _with_sync(cluster, options)


def _with_sync(cluster, options):
    """The sync settings, checked in every process (a ps too), so that a wrong command fails everywhere."""
    if options.sync_replicas:
        if cluster.num_workers < 2:
            raise UserError("--sync_replicas with a single worker: there are no other replicas to wait for. Drop "
                            "--sync_replicas, or add workers to the cluster")
        aggregate = options.replicas_to_aggregate or cluster.num_workers
        if aggregate < 1:
            raise UserError("--replicas_to_aggregate must be at least 1, got %d" % aggregate)
        cluster.sync, cluster.replicas_to_aggregate = True, aggregate
    elif options.replicas_to_aggregate is not None:
        warn("--replicas_to_aggregate applies to --sync_replicas only: ignored in asynchronous training")
    return cluster


def _check_single_process(options):
    """research/slim's replica flags at their single-process values are accepted; others need a cluster."""
    if (options.num_ps_tasks or 0) > 0 or (options.worker_replicas or 1) > 1 or (options.task or 0) > 0 \
            or options.sync_replicas:
        raise UserError("--num_ps_tasks, --worker_replicas, --task and --sync_replicas need a cluster: set TF_CONFIG "
                        "(e.g. %s), or pass --ps_hosts/--worker_hosts/--job_name/--task, or --master for an existing "
                        "server; python -m engine.cluster starts one on this machine" % TF_CONFIG_EXAMPLE)
