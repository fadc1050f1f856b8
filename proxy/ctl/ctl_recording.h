/*
 * ctl_recording.h: `pixelgatectl recording export FILE --png DIR --every S`.
 */
#ifndef PIXELGATE_CTL_RECORDING_H
#define PIXELGATE_CTL_RECORDING_H

/* The "recording" command; returns the exit status. */
int ctl_recording_main(int argc, char **argv);

#endif
