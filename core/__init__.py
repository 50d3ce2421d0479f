"""Autograd Explorer core: pure Python + torch, never imports streamlit."""
