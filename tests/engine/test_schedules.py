"""The learning rate of each decay type, at and around its boundaries, against its formula written out here: research/
slim's fixed, exponential (staircase) and polynomial decays, the cosine decay, the warmup before each; and the
images a global step counts with clones and with a cluster's sync replicas."""
import math

import pytest

from core.compat import tf
from core.errors import UserError
from engine.cluster.topology import Cluster
from engine.config.options import LearningRateOptions, OptimizerOptions, TrainOptions
from engine.config.settings import Settings
from engine.training import graph as training_graph
from engine.training.schedules import configure_learning_rate

LR, FACTOR, END = 0.1, 0.5, 0.001


def rates(options, steps, num_samples=100, images_per_step=10, total_steps=None):
    """{step: learning rate} of the schedule tensor, the global step set to each of `steps`."""
    graph = tf.Graph()
    with graph.as_default():
        global_step = tf.train.get_or_create_global_step()
        rate = configure_learning_rate(options, num_samples, images_per_step, global_step, total_steps)
        with tf.Session(graph=graph) as session:
            session.run(global_step.initializer)
            found = {}
            for step in steps:
                global_step.load(step, session)
                found[step] = float(session.run(rate))
            return found


def schedule(decay_type, **fields):
    return LearningRateOptions(learning_rate_decay_type=decay_type, learning_rate=LR, learning_rate_decay_factor=FACTOR,
                               end_learning_rate=END, num_epochs_per_decay=2.0, **fields)


def check(found, formula):
    for step, value in found.items():
        assert value == pytest.approx(formula(step), rel=1e-5, abs=1e-8), step  # float32


def test_fixed_is_the_learning_rate_at_every_step():
    check(rates(schedule("fixed"), [0, 1, 19, 20, 10 ** 6]), lambda step: LR)


def test_exponential_decays_in_steps_of_num_epochs_per_decay():
    # 100 images an epoch, 10 a step: 2 epochs are 20 steps. research/slim's staircase: constant within them.
    found = rates(schedule("exponential"), [0, 1, 2, 19, 20, 21, 39, 40, 41, 100])
    check(found, lambda step: LR * FACTOR ** (step // 20))
    assert found[1] == found[19] == found[0] and found[20] == found[39] < found[19]


def test_decay_steps_drop_the_fraction_of_a_step_as_research_slim_did():
    # 105 images an epoch, 10 a step: int(2 * 105 / 10) = 21 steps per decay, not 21.0 rounded up or 20.
    found = rates(schedule("exponential"), [20, 21, 41, 42], num_samples=105)
    check(found, lambda step: LR * FACTOR ** (step // 21))


def test_polynomial_goes_linearly_to_the_end_rate_then_stays():
    found = rates(schedule("polynomial"), [0, 1, 10, 19, 20, 21, 500])
    check(found, lambda step: (LR - END) * (1 - min(step, 20) / 20) + END)


def test_cosine_goes_from_the_learning_rate_to_the_end_rate_at_the_last_step():
    found = rates(schedule("cosine"), [0, 1, 25, 50, 75, 99, 100, 150], total_steps=100)
    check(found, lambda step: END + (LR - END) * 0.5 * (1 + math.cos(math.pi * min(step, 100) / 100)))
    assert found[50] == pytest.approx((LR + END) / 2)


@pytest.mark.parametrize("decay_type", ["fixed", "exponential", "polynomial", "cosine"])
def test_warmup_climbs_to_what_the_decay_gives_at_its_end(decay_type):
    # 1.5 epochs of warmup: int(1.5 * 100 / 10) = 15 steps. Step s < 15 takes (s + 1) / 15 of the rate at step 15;
    # from step 15 on, the decay's own rate: research/slim's decays count their steps from 0 as without warmup,
    # the cosine starts at the end of the warmup.
    options = schedule(decay_type, warmup_epochs=1.5)
    plain = rates(schedule(decay_type), [15, 16, 20, 40, 60], total_steps=60)
    if decay_type == "cosine":
        plain = {step: END + (LR - END) * 0.5 * (1 + math.cos(math.pi * (step - 15) / 45)) for step in plain}
    found = rates(options, [0, 1, 7, 14, 15, 16, 20, 40, 60], total_steps=60)
    check({step: found[step] for step in (0, 1, 7, 14)}, lambda step: plain[15] * (step + 1) / 15)
    check({step: found[step] for step in plain}, lambda step: plain[step])
    assert found[0] < found[7] < found[14] == pytest.approx(found[15])


def test_cosine_needs_the_last_step():
    with pytest.raises(UserError, match="cosine.*--max_number_of_steps"):
        rates(schedule("cosine"), [0])


def _graph_rates(batch_size, num_clones=1, cluster=None, steps=(0, 9, 10, 19, 20)):
    """{step: rate} of the learning rate of the whole training graph of lenet (100 images an epoch)."""
    settings = Settings("lenet", 28, "lenet", False, "unused.tfrecord", "unused.txt", ["a", "b"], 25.0, 0, "single")
    options = TrainOptions(train_dir="unused", batch_size=batch_size, num_clones=num_clones, clone_on_cpu=True,
                           optimization=OptimizerOptions(optimizer="sgd"), schedule=schedule("exponential"))
    graph = tf.Graph()
    with graph.as_default():
        batch = {"images": tf.zeros([batch_size, 28, 28, 3]), "labels": tf.one_hot([0] * batch_size, 2)}
        ops = training_graph.build_train_graph(settings, options, "single", 100, batch, cluster)
        with tf.Session(graph=graph) as session:
            session.run(ops.global_step.initializer)
            found = {}
            for step in steps:
                ops.global_step.load(step, session)
                found[step] = float(session.run(ops.learning_rate))
            return found


def test_clones_split_the_batch_so_a_step_counts_the_batch_size():
    # 2 clones of a batch of 10: a global step trains on 10 images, so 2 epochs of 100 images are 20 steps.
    for num_clones in (1, 2):
        check(_graph_rates(10, num_clones), lambda step: LR * FACTOR ** (step // 20))


def test_sync_replicas_count_every_aggregated_batch():
    # 5 images a batch, 2 batches aggregated per global step: 10 images a step, 20 steps per decay (as research/
    # slim divided its decay steps by --replicas_to_aggregate).
    cluster = Cluster(ps=[], workers=["localhost:1", "localhost:2"], job_name="worker", task_index=0, sync=True,
                      replicas_to_aggregate=2)
    assert training_graph.images_per_step(5, cluster) == 10
    check(_graph_rates(5, cluster=cluster), lambda step: LR * FACTOR ** (step // 20))
    alone = _graph_rates(5, steps=(0, 20, 39, 40))  # the same batch alone: 5 images a step, 40 steps per decay
    check(alone, lambda step: LR * FACTOR ** (step // 40))
