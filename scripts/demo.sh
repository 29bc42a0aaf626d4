#!/usr/bin/env bash
# The whole suite end to end on generated faces, in demo/ (removed and rebuilt at each run):
# faces -> CSV + TFRecord -> training, validated on the val part -> evaluation of the best and the last
# checkpoints on the test part -> export, freeze -> label_image.
# Seeded (DEMO_SEED, default 1): on the same machine each run trains the same weights, so the figures of
# docs/demo.md are the ones printed here. DEMO_STEPS (default 2000) and DEMO_PATIENCE (early stopping after that
# many validations without progress; default none) change the training.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/venv.sh
PY=.venv/bin/python
STEPS="${DEMO_STEPS:-2000}"
SEED="${DEMO_SEED:-1}"
PATIENCE=()
if [ -n "${DEMO_PATIENCE:-}" ]; then PATIENCE=(--early_stopping_patience "$DEMO_PATIENCE"); fi
rm -rf demo
step() { echo; echo "== $*"; }

step "1/6 generating 400 synthetic faces (5 attributes each)"
$PY -m datasets.demo_faces --output_dir demo --count 400 --size 128 --seed 0

step "2/6 conversion: CSV + TFRecord"
$PY download_and_convert_data.py --image_dir demo/images --labels_dir demo/annotations \
  --chemin_csv demo/labels.csv --chemin_tfrecords demo/faces.tfrecord --classes labels/liste_labels.txt

step "3/6 training mobilenet_v1_050 at 128x128 for $STEPS steps (the attribute groups found in the labels: a" \
  "softmax per attribute), seed $SEED, validating on the val part every 100 steps and keeping the best" \
  "checkpoint in demo/output/best"
$PY train_image_classifier.py --model_name mobilenet_v1_050 --train_dir demo/output \
  --tfrecord_file demo/faces.tfrecord --path_to_csv demo/labels.csv \
  --max_number_of_steps "$STEPS" --batch_size 16 --train_image_size 128 --preprocessing_name cifarnet \
  --optimizer adam --learning_rate 0.004 --opt_epsilon 1e-8 --learning_rate_decay_type cosine \
  --warmup_epochs 2 --end_learning_rate 0.00001 --batch_norm_decay 0.9 --seed "$SEED" \
  --eval_every_n_steps 100 ${PATIENCE[@]+"${PATIENCE[@]}"} --log_every_n_steps 100 --save_summaries_secs 60

step "4/6 evaluation on the test part (faces nothing was trained or chosen on): the best checkpoint, then the last"
$PY eval_image_classifier.py --checkpoint_path demo/output/best --batch_size 32  # results in demo/output/best/eval
$PY eval_image_classifier.py --checkpoint_path demo/output --batch_size 32  # results in demo/output/eval

step "5/6 export the inference graph, then freeze the best checkpoint into it with TensorFlow's own tool"
# --checkpoint_path: the run's classes, attribute groups and preprocessing, recorded in its train_config.json
$PY export_inference_graph.py --model_name mobilenet_v1_050 --image_size 128 --batch_size 8 \
  --classes_file labels/liste_labels.txt --checkpoint_path demo/output/best \
  --output_file demo/mobilenet_v1_050_inf_graph.pb
checkpoint=$($PY -c "import sys; from core.compat import tf; print(tf.train.latest_checkpoint(sys.argv[1]))" \
  demo/output/best)
# TensorFlow's freeze_graph, run quietly; its log is kept in a file and shown only on failure.
if ! $PY -m engine.export.freeze_graph --input_graph=demo/mobilenet_v1_050_inf_graph.pb \
    --input_binary=true --input_checkpoint="$checkpoint" --output_graph=demo/mobilenet_v1_050_frozen_graph.pb \
    --output_node_names=MobilenetV1/Predictions/Reshape_1 > demo/freeze_graph.log 2>&1; then
  cat demo/freeze_graph.log; exit 1
fi
echo "froze $checkpoint into demo/mobilenet_v1_050_frozen_graph.pb"

step "6/6 label_image on two faces of the test part with the frozen graph: the best label of each attribute"
for face in $($PY -m datasets.split demo/images --split test | sed -n 1,2p); do
  echo "$face: $(tr '\n' ' ' < "demo/annotations/${face%.*}.txt")"
  $PY label_image.py --image "demo/images/$face" --graph demo/mobilenet_v1_050_frozen_graph.pb \
    --labels labels/liste_labels.txt
done
echo
echo "demo done: TensorBoard (training, val and test runs) with  .venv/bin/tensorboard --logdir demo/output"
