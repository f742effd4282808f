"""The demo district: Chenghua's real outline, the published figures, generated detail."""
