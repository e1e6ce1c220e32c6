// msgpackr loads its native accelerator inside try/catch; throwing here selects the pure-JS path.
throw new Error('msgpackr-extract is replaced by a stub: envparity ships no native modules in the agent');
