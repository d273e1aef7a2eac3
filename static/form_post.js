// response_mode=form_post: hand the authorization response to the app without a click (the button stays
// for browsers without JavaScript).
document.getElementById("form-post").submit();
