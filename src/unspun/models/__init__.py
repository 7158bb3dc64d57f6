"""Loading encoders and causal language models by HF id or local path, with offline fallbacks."""
