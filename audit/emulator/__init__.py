"""An embedded emulator of the VOD GetJobDetail endpoint, served over real HTTP on loopback."""
