"""Protocol rules as pure functions: agreements as data, and a clock-driven engine that turns
records into thread states and due actions. No I/O; the clock is passed in."""
