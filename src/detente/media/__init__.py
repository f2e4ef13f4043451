"""Synthetic media: labels under C2PA and China's AIGC rules, and watermark detection."""
