"""Reports for people: the policy-comparison report, the run dashboard and the generated reference docs."""
