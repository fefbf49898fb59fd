//! The stage-2 translation walker of the simulation.
