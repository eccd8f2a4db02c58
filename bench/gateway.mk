# bench/gateway.mk: the gateway under load (GetSandboxConfig rate, watch fan-out).
