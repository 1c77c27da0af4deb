"""The official conformance scenarios, run through our synchronous client."""
