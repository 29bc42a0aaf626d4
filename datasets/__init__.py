"""File formats of the suite (classes file, CSV, TFRecord), their writers and readers."""
