"""Modbus TCP, plain and Sungrow-encrypted, over the simulator's register images."""
