"""What label_image needs from a model of any format: `predict(images) -> scores`, its input dimensions, batch
size and number of outputs. Each format (engine/inference/labeling.py for frozen graphs,
engine/inference/runtimes.py for SavedModel, TFLite and ONNX) subclasses `Model` and runs one batch in `_run`.
"""
import numpy as np

from core.errors import UserError, first_line


class Model:
    """A classifier model; subclasses set `path`, `input_dims` and `num_outputs`, and define `_run`."""
    path = "model"
    input_dims = (None, None, None, 3)  # [batch, height, width, channels]; None where any size goes
    num_outputs = None

    @property
    def batch_size(self):
        """The fixed batch size of the input, or None for any batch."""
        return self.input_dims[0]

    def _check_input(self, dims, what=None):
        if dims is None:
            return
        if len(dims) != 4:
            raise UserError("%s has shape %s; label_image feeds images [batch, height, width, 3]"
                            % (what or "the input of %s" % self.path, dims))
        self.input_dims = list(dims)

    def _run(self, images):
        """Scores for one batch of float32 images (a batch of `batch_size` when it is fixed)."""
        raise NotImplementedError

    def predict(self, images):
        """Scores [n, num_outputs] for images [n, height, width, 3]; a fixed batch size is padded."""
        images = np.asarray(images, dtype=np.float32)
        if self.batch_size is None:
            return self._checked_run(images)
        results = []
        for start in range(0, len(images), self.batch_size):
            chunk = images[start:start + self.batch_size]
            padded = np.zeros([self.batch_size] + list(chunk.shape[1:]), np.float32)
            padded[:len(chunk)] = chunk
            results.append(self._checked_run(padded)[:len(chunk)])
        return np.concatenate(results, axis=0)

    def _checked_run(self, images):
        try:
            scores = self._run(images)
        except UserError:
            raise
        except Exception as error:  # noqa: BLE001 (each runtime raises its own exception classes)
            raise UserError("running %s failed: %s; check --input_layer, --output_layer and "
                            "--input_height/--input_width" % (self.path, first_line(error)))
        return np.asarray(scores, np.float32).reshape(len(images), -1)

    def close(self):
        pass
