"""The one exception type for user mistakes: the CLI prints its message and exits with status 2."""


class UserError(Exception):
    """A mistake in the user's input (scenario file, data file, command-line value).

    The message is complete on its own: it names the file, the key and what was expected, so the
    command line prints it as it is, with no traceback.
    """
