"""Structure-of-arrays stores of the model's state: the firm table, the tie table, the public-money
ledger and the firm log (births, deaths, yearly sizes)."""
