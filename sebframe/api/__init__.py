"""JSON APIs: ``exam`` for SEB clients (SEB Server's Exam API), ``admin`` for integrators."""
