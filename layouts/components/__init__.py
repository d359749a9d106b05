"""Small layout pieces shared by the views."""
