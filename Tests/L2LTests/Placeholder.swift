// placeholder until L2L tests land
