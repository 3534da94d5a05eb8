"""Model plumbing shared by every task: which model, the embedded pack, runtime, batching, speed paths."""
