"""Training: the one fine-tuning loop, `opinions train` and `opinions evaluate`."""
