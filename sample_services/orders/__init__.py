"""Orders: places orders after checking (v2: reserving) stock in inventory."""
