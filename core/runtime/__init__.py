"""Running the service: processes and their leases, singleton roles, the sweeps."""
